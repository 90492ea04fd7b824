// Where `npm run build` puts what the server serves but does not compile: the console, built by Vite. This file
// is one folder below the project root both as source (src/) and once bundled (dist/main.js), so one relative
// URL finds it from both.
import { fileURLToPath } from 'node:url';

export const CONSOLE_BUILD_DIR = fileURLToPath(new URL('../dist/console/', import.meta.url));
