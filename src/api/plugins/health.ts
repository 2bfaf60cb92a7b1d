import type { FastifyPluginAsync } from 'fastify';

/** `GET /health`: the process is up and serving HTTP. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/health', async () => ({ ok: true }));
};
