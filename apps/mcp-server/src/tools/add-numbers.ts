import { z } from 'zod';
import { result, SCOPE_TOOLS, type ToolModule } from './tool.js';

export const addNumbers: ToolModule = {
  name: 'add_numbers',
  scopes: [SCOPE_TOOLS],
  register(server) {
    server.registerTool(
      'add_numbers',
      {
        title: 'Add two numbers',
        description: 'Adds a and b.',
        inputSchema: z.object({ a: z.number().finite(), b: z.number().finite() }),
        outputSchema: z.object({ sum: z.number() }),
        annotations: { readOnlyHint: true },
        _meta: { 'gatehouse/scopes': [SCOPE_TOOLS] },
      },
      async ({ a, b }) => result({ sum: a + b }, `${a} + ${b} = ${a + b}`),
    );
  },
};
