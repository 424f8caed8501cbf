import { addNumbers } from './add-numbers.js';
import { multiplyNumbers } from './multiply-numbers.js';
import { serverStatus } from './server-status.js';
import { whoami } from './whoami.js';

export {
  SCOPE_ADMIN,
  SCOPE_HIERARCHY,
  SCOPE_TOOLS,
  type ToolContext,
  type ToolModule,
} from './tool.js';

/** Every tool of this server; each declares its scopes next to its definition. */
export const TOOLS = [addNumbers, multiplyNumbers, whoami, serverStatus] as const;
