// Builds the front end into build/static (git-ignored, served by whitenoise):
// GOV.UK Frontend compiled from Sass with Arial (no GDS Transport, no crown),
// its JavaScript and assets, htmx, and our own scripts.
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const final = join(root, "build", "static");
// Build beside the live folder and swap at the end, so a running server never
// sees a half-built (or missing) set of files.
const out = join(root, "build", `static.${process.pid}.tmp`);
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "css"), { recursive: true });
mkdirSync(join(out, "js"), { recursive: true });

const css = sass.compile(join(root, "frontend", "scss", "app.scss"), {
  loadPaths: [join(root, "node_modules")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "css", "app.css"), css.css);

cpSync(join(govuk, "govuk-frontend.min.js"), join(out, "js", "govuk-frontend.min.js"));
cpSync(join(root, "node_modules", "htmx.org", "dist", "htmx.min.js"), join(out, "js", "htmx.min.js"));
// Chart.js (UMD build, no eval: works under our CSP) for the pages with a chart.
// Its source map goes with it: the production static build checks every file it names.
for (const name of ["chart.umd.min.js", "chart.umd.min.js.map"]) {
  cpSync(join(root, "node_modules", "chart.js", "dist", name), join(out, "js", name));
}
cpSync(join(root, "frontend", "js"), join(out, "js"), { recursive: true });
cpSync(join(root, "frontend", "images"), join(out, "images"), { recursive: true });
const old = join(root, "build", `static.${process.pid}.old`);
rmSync(old, { recursive: true, force: true });
try {
  renameSync(final, old);
} catch {
  // first build: nothing to move aside
}
renameSync(out, final);
rmSync(old, { recursive: true, force: true });
console.log(`front end built into ${final}`);
