import { serve } from './serve.ts';

/** `npm start`: migrations, the HTTP server and the callback worker in one process. */
serve({ http: true, worker: true }).catch((error: unknown) => {
  console.error('chargegate: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
