// Copy the browser libraries the dashboard uses from node_modules into public/vendor/.
// Run by `make vendor` (for `make dev` and `make test`) and by the Vercel build (`npm run build`).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = {
  "uplot/dist/uPlot.esm.js": "uPlot.esm.js",
  // Loaded only by the accessibility tests, never by the page.
  "axe-core/axe.min.js": "axe.min.js",
};
const target = join(root, "public", "vendor");
mkdirSync(target, { recursive: true });
for (const [from, to] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", from), join(target, to));
  console.log(`public/vendor/${to} <- node_modules/${from}`);
}
