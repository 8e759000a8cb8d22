// A minimal Probot app for the ingest benchmark: Probot's own Node middleware verifies each
// delivery's X-Hub-Signature-256 (octokit webhooks.verify) and dispatches it to a no-op handler.
// Usage: node bench/probot_app.mjs PORT  (WEBHOOK_SECRET in the environment). Loopback only.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.resolve("bench/.probot/package.json"));
const { createNodeMiddleware, createProbot } = await import(require.resolve("probot"));

const port = Number(process.argv[2]);
const probot = createProbot({
  overrides: { appId: 1, privateKey: "unused", secret: process.env.WEBHOOK_SECRET, logLevel: "fatal" },
  env: {},
});
const appFn = (app) => {
  app.on("pull_request.synchronize", async () => {});
};
const middleware = await createNodeMiddleware(appFn, { probot, webhooksPath: "/webhook" });
const server = createServer((req, res) => middleware(req, res, () => { res.writeHead(404); res.end(); }));
server.keepAliveTimeout = 5000;
server.listen(port, "127.0.0.1", () => console.log(`probot: http://127.0.0.1:${port}`));
