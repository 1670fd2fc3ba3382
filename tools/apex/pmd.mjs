// Runs PMD's Apex rules of the given categories (tags) over the given folders, through Salesforce
// Code Analyzer's PMD engine (PMD's own jars ship inside the npm package; it needs Java 11 or newer
// and no network). Prints one JSON object: {engine, rules: [names], findings: [{rule, category,
// severity, path, line, endLine, message}], problems: [...]}. Exit status 0 when PMD ran (findings or not), 1 when it could not.
//   node tools/apex/pmd.mjs --categories Security,BestPractices,ErrorProne salesforce
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import { ConfigValueExtractor, EventType, LogLevel, Workspace } from "@salesforce/code-analyzer-engine-api";
import { shown } from "./sources.mjs";

const require = createRequire(import.meta.url);
const { PmdCpdEnginesPlugin } = require("@salesforce/code-analyzer-pmd-engine/dist/plugin.js");
const PMD_ENGINE_VERSION = require("@salesforce/code-analyzer-pmd-engine/package.json").version;

function usage() {
  console.error("usage: node pmd.mjs --categories Security,BestPractices FOLDER...");
  process.exit(2);
}

const args = process.argv.slice(2);
const at = args.indexOf("--categories");
if (at < 0 || !args[at + 1]) usage();
const categories = args[at + 1].split(",");
const folders = args.filter((_, i) => i !== at && i !== at + 1).map((p) => resolve(p));
if (folders.length === 0) usage();

const plugin = new PmdCpdEnginesPlugin();
const config = await plugin.createEngineConfig("pmd", new ConfigValueExtractor({}, "engines.pmd", process.cwd()));
const engine = await plugin.createEngine("pmd", config);
const problems = [];
engine.onEvent(EventType.LogEvent, (event) => {
  if (event.logLevel <= LogLevel.Error) problems.push(event.message);
});
const workspace = new Workspace("apex", folders);
const workingFolder = mkdtempSync(join(tmpdir(), "rd-pmd-"));
let report;
try {
  const options = { workspace, workingFolder, logFolder: workingFolder };
  const rules = (await engine.describeRules(options)).filter(
    (rule) => rule.tags.includes("Apex") && rule.tags.some((tag) => categories.includes(tag)));
  const category = Object.fromEntries(rules.map((r) => [r.name, r.tags.find((t) => categories.includes(t))]));
  const results = await engine.runRules(rules.map((r) => r.name), options);
  const findings = results.violations.map((v) => ({
    rule: v.ruleName, category: category[v.ruleName], severity: rules.find((r) => r.name === v.ruleName).severityLevel,
    path: shown(v.codeLocations[0].file), line: v.codeLocations[0].startLine,
    endLine: v.codeLocations[0].endLine ?? v.codeLocations[0].startLine, message: v.message.trim(),
  }));
  report = { engine: PMD_ENGINE_VERSION, rules: rules.map((r) => r.name).sort(), findings, problems };
} finally {
  rmSync(workingFolder, { recursive: true, force: true });
}
console.log(JSON.stringify(report, null, 1));
process.exit(problems.length > 0 ? 1 : 0);
