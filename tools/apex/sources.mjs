// Finding and parsing Apex sources with the published Apex grammar (@apexdevtools/apex-parser).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ApexErrorListener, ApexParserFactory } from "@apexdevtools/apex-parser";

export const APEX_SUFFIXES = [".cls", ".trigger"];

/** Every .cls and .trigger file under the given files and folders, sorted, node_modules skipped. */
export function apexFiles(paths) {
  const found = [];
  const visit = (path) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) {
        if (name !== "node_modules" && !name.startsWith(".")) visit(join(path, name));
      }
    } else if (APEX_SUFFIXES.some((suffix) => path.endsWith(suffix))) {
      found.push(path);
    }
  };
  paths.forEach(visit);
  return found;
}

/** ANTLR lists every token it expected; past a handful the list says nothing to a reader. */
function brief(message) {
  return message.replace(/expecting \{(.*)\}$/, (whole, tokens) => {
    const count = tokens.split(", ").length;
    return count > 8 ? `expecting one of ${count} tokens` : whole;
  });
}

class CollectingListener extends ApexErrorListener {
  errors = [];

  apexSyntaxError(line, column, message) {
    this.errors.push({ line, column: column + 1, message: brief(message) });
  }
}

/** The parse tree of one file (a class or a trigger) and its lexer and parser errors. */
export function parseApex(path) {
  const listener = new CollectingListener();
  const { parser } = ApexParserFactory.createLexerAndParser(readFileSync(path, "utf8"), listener);
  const tree = path.endsWith(".trigger") ? parser.triggerUnit() : parser.compilationUnit();
  return { tree, errors: listener.errors };
}

export function shown(path) {
  return relative(process.cwd(), path) || path;
}
