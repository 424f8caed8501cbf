import { z } from 'zod';
import { result, SCOPE_TOOLS, type ToolModule } from './tool.js';

export const multiplyNumbers: ToolModule = {
  name: 'multiply_numbers',
  scopes: [SCOPE_TOOLS],
  register(server) {
    server.registerTool(
      'multiply_numbers',
      {
        title: 'Multiply two numbers',
        description: 'Multiplies x by y.',
        inputSchema: z.object({ x: z.number().finite(), y: z.number().finite() }),
        outputSchema: z.object({ product: z.number() }),
        annotations: { readOnlyHint: true },
        _meta: { 'gatehouse/scopes': [SCOPE_TOOLS] },
      },
      async ({ x, y }) => result({ product: x * y }, `${x} × ${y} = ${x * y}`),
    );
  },
};
