/**
 * `npm run build`: the production build. tsc compiles src/ into dist/ (tsconfig.build.json), and
 * the workflow code is bundled once into dist/workflow-bundle.js, which workers load instead of
 * bundling at start-up (Temporal's recommended production set-up). Run it with
 * `FAXFLOW_PREBUILT=1 faxflow ...`. Options: `--out-dir DIR` (default dist).
 *
 * The sources import each other without extensions (moduleResolution Bundler, as tsx and vitest
 * read them); Node's ESM loader needs full file names, so the emit rewrites each relative import to
 * the file it resolves to (`./x` → `./x.js`, `./dir` → `./dir/index.js`).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import ts from 'typescript';
import { WORKFLOWS_PATH } from '../src/workers/fax-workers';

const ROOT = path.resolve(import.meta.dirname, '..');

async function build(): Promise<void> {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
  const outDir = path.resolve(values['out-dir'] ?? path.join(ROOT, 'dist'));
  const started = Date.now();
  await rm(outDir, { recursive: true, force: true });

  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.build.json'),
    { outDir },
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) },
  )!;
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length) fail(diagnostics);
  const emitted = program.emit(undefined, undefined, undefined, false, { before: [explicitSpecifiers] });
  if (emitted.emitSkipped || emitted.diagnostics.length) fail(emitted.diagnostics);
  console.error(`compiled ${config.fileNames.length} files into ${outDir}`);

  const noop = (): void => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error },
  });
  await mkdir(outDir, { recursive: true });
  const bundlePath = path.join(outDir, 'workflow-bundle.js');
  await writeFile(bundlePath, code);
  const kb = Math.round((await stat(bundlePath)).size / 1024);
  console.error(`bundled the workflows into ${bundlePath} (${kb} KB) in ${(Date.now() - started) / 1000} s`);
}

/** Rewrites relative module specifiers in imports, re-exports and `import()` to the files they name. */
const explicitSpecifiers: ts.TransformerFactory<ts.SourceFile> = (context) => (sourceFile) => {
  const dir = path.dirname(sourceFile.fileName);
  const rewrite = (node: ts.Expression | undefined): ts.StringLiteral | undefined => {
    if (!node || !ts.isStringLiteral(node) || !node.text.startsWith('.')) return undefined;
    const target = path.resolve(dir, node.text);
    if (existsSync(`${target}.ts`)) return context.factory.createStringLiteral(`${node.text}.js`);
    if (existsSync(path.join(target, 'index.ts'))) {
      return context.factory.createStringLiteral(`${node.text}/index.js`);
    }
    throw new Error(`${sourceFile.fileName}: cannot resolve import "${node.text}" to a .ts file`);
  };
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node)) {
      const spec = rewrite(node.moduleSpecifier);
      if (spec) {
        return context.factory.updateImportDeclaration(
          node,
          node.modifiers,
          node.importClause,
          spec,
          node.attributes,
        );
      }
    } else if (ts.isExportDeclaration(node)) {
      const spec = rewrite(node.moduleSpecifier);
      if (spec) {
        return context.factory.updateExportDeclaration(
          node,
          node.modifiers,
          node.isTypeOnly,
          node.exportClause,
          spec,
          node.attributes,
        );
      }
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const spec = rewrite(node.arguments[0]);
      if (spec) {
        return context.factory.updateCallExpression(node, node.expression, node.typeArguments, [
          spec,
          ...node.arguments.slice(1),
        ]);
      }
    }
    return ts.visitEachChild(node, visit, context);
  };
  return ts.visitNode(sourceFile, visit) as ts.SourceFile;
};

function fail(diagnostics: readonly ts.Diagnostic[]): never {
  console.error(
    ts.formatDiagnosticsWithColorAndContext(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => '\n',
    }),
  );
  process.exit(1);
}

await build();
