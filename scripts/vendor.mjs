// Copy the browser libraries the dashboard uses from node_modules into public/vendor/.
// Run by `make vendor` (for `make dev` and `make test`) and by the Vercel build (`npm run build`).
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// Only what the page loads: axe-core (the accessibility tests') is injected by the tests from
// node_modules and never deployed.
const files = {
  "uplot/dist/uPlot.esm.js": "uPlot.esm.js",
};
const target = join(root, "public", "vendor");
mkdirSync(target, { recursive: true });
// A checkout vendored before axe-core was dropped from the copy still has it: remove it.
rmSync(join(target, "axe.min.js"), { force: true });
for (const [from, to] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", from), join(target, to));
  console.log(`public/vendor/${to} <- node_modules/${from}`);
}
