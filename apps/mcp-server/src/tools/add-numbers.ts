import { z } from 'zod';
import { defineTool, result, SCOPE_TOOLS } from './tool.js';

export const addNumbers = defineTool({
  name: 'add_numbers',
  scopes: [SCOPE_TOOLS],
  title: 'Add two numbers',
  description: 'Adds a and b.',
  inputSchema: z.object({ a: z.number().finite(), b: z.number().finite() }),
  outputSchema: z.object({ sum: z.number() }),
  annotations: { readOnlyHint: true },
  run: ({ a, b }) => result({ sum: a + b }, `${a} + ${b} = ${a + b}`),
});
