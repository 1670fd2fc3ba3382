// Prints, as JSON, the `static final` String constants of an Apex class and its `static final`
// Set<String> / List<String> constants built from string literals or those constants, read from the
// parse tree (not with patterns over the text), so tests and the emulator take the Apex's values.
//   node tools/apex/constants.mjs salesforce/force-app/main/default/classes/ResponseDeskPolicy.cls
import { ApexParserBaseListener, ApexParseTreeWalker } from "@apexdevtools/apex-parser";
import { parseApex, shown } from "./sources.mjs";

const COLLECTIONS = /^(Set|List)<String>$/i;

class ConstantListener extends ApexParserBaseListener {
  declarations = []; // [name, type, expression] in source order

  enterClassBodyDeclaration(ctx) {
    const modifiers = ctx.modifier_list().map((m) => m.getText().toLowerCase());
    const field = ctx.memberDeclaration()?.fieldDeclaration();
    if (!field || !modifiers.includes("static") || !modifiers.includes("final")) return;
    const type = field.typeRef().getText();
    for (const declarator of field.variableDeclarators().variableDeclarator_list()) {
      if (declarator.expression()) this.declarations.push([declarator.id().getText(), type, declarator.expression()]);
    }
  }
}

/** The value of a string literal token: quotes removed, Apex escapes resolved. */
function stringValue(token) {
  return token
    .slice(1, -1)
    .replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c) =>
      c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : ({ n: "\n", t: "\t", r: "\r" })[c] ?? c);
}

function scalar(expression, known) {
  const literal = expression.primary?.()?.literal?.()?.StringLiteral?.();
  if (literal) return stringValue(literal.getText());
  const name = expression.primary?.()?.id?.()?.getText();
  if (name !== undefined && typeof known[name] === "string") return known[name];
  return undefined;
}

function elements(expression) {
  const creator = expression.creator?.();
  const rest = creator?.setCreatorRest() ?? creator?.arrayCreatorRest()?.arrayInitializer();
  return rest ? rest.expression_list() : undefined;
}

export function constantsOf(path) {
  const { tree, errors } = parseApex(path);
  if (errors.length > 0) {
    throw new Error(`${shown(path)}:${errors[0].line}:${errors[0].column}: ${errors[0].message}`);
  }
  const listener = new ConstantListener();
  ApexParseTreeWalker.DEFAULT.walk(listener, tree);
  const known = {};
  for (const [name, type, expression] of listener.declarations) {
    if (/^String$/i.test(type)) {
      const value = scalar(expression, known);
      if (value !== undefined) known[name] = value;
    } else if (COLLECTIONS.test(type)) {
      const values = elements(expression)?.map((e) => scalar(e, known));
      if (values && values.every((v) => v !== undefined)) known[name] = values;
    }
  }
  return known;
}

const [path] = process.argv.slice(2);
if (!path) {
  console.error("usage: node constants.mjs CLASS.cls");
  process.exit(2);
}
console.log(JSON.stringify(constantsOf(path), null, 2));
