// Parses every Apex class and trigger under the given paths; prints each syntax error as
// path:line:column: message. Exit status 0 when all parse, 1 on any error, 2 on bad usage.
//   node tools/apex/parse.mjs salesforce
import { apexFiles, parseApex, shown } from "./sources.mjs";

const paths = process.argv.slice(2);
if (paths.length === 0) {
  console.error("usage: node parse.mjs FILE_OR_FOLDER...");
  process.exit(2);
}
const files = apexFiles(paths);
let failed = 0;
for (const file of files) {
  const { errors } = parseApex(file);
  failed += errors.length > 0 ? 1 : 0;
  for (const { line, column, message } of errors) {
    console.log(`${shown(file)}:${line}:${column}: ${message}`);
  }
}
console.log(`parsed ${files.length} Apex files: ${failed} with syntax errors`);
process.exit(files.length === 0 || failed > 0 ? 1 : 0);
