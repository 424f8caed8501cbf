import { z } from 'zod';
import { defineTool, result, SCOPE_TOOLS } from './tool.js';

export const multiplyNumbers = defineTool({
  name: 'multiply_numbers',
  scopes: [SCOPE_TOOLS],
  title: 'Multiply two numbers',
  description: 'Multiplies x by y.',
  inputSchema: z.object({ x: z.number().finite(), y: z.number().finite() }),
  outputSchema: z.object({ product: z.number() }),
  annotations: { readOnlyHint: true },
  run: ({ x, y }) => result({ product: x * y }, `${x} × ${y} = ${x * y}`),
});
