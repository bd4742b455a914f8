import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** A code block of the docs marked `<!-- check: file -->`: written to `file` in a scratch project. */
export interface CheckedBlock {
  readonly file: string;
  readonly source: string;
  /** Where it is: `README.md:42`. */
  readonly at: string;
}

/** The pages whose code blocks are checked: the README, CONTRIBUTING and every page of docs/. */
export function docPages(root: string): string[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join("docs", name));
  return ["README.md", "CONTRIBUTING.md", ...docs.sort()];
}

// a file name, or dir/name: each directory is a project of its own (the peers' examples, whose
// declarations of req.auth clash with this package's)
const MARKER = /^<!-- (?:check: ((?:[\w-]+\/)?[\w.-]+)|(fragment)) -->$/;

/**
 * The checked blocks of a page, and where a `ts` block has no marker: every one must be either
 * checked or said to be a fragment, so an example cannot slip in unchecked.
 */
export function blocksOf(page: string, markdown: string): { blocks: CheckedBlock[]; unmarked: string[] } {
  const lines = markdown.split("\n");
  const blocks: CheckedBlock[] = [];
  const unmarked: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\w*)\s*$/.exec(lines[i] ?? "");
    if (fence === null) continue;
    const [, indent = "", lang = ""] = fence;
    let end = i + 1;
    while (end < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[end] ?? "")) end++;
    const body = lines
      .slice(i + 1, end)
      .map((line) => line.slice(indent.length))
      .join("\n");
    // the marker: the last non-blank line before the fence
    let back = i - 1;
    while (back >= 0 && (lines[back] ?? "").trim() === "") back--;
    const marker = MARKER.exec((lines[back] ?? "").trim());
    if (marker?.[1] !== undefined) blocks.push({ file: marker[1], source: `${body}\n`, at: `${page}:${i + 1}` });
    else if (marker === null && (lang === "ts" || lang === "typescript")) unmarked.push(`${page}:${i + 1}`);
    i = end;
  }
  return { blocks, unmarked };
}

/** Every checked block of every page. */
export function checkedBlocks(root: string): { blocks: CheckedBlock[]; unmarked: string[] } {
  const all = docPages(root).map((page) => blocksOf(page, readFileSync(join(root, page), "utf8")));
  return { blocks: all.flatMap((each) => each.blocks), unmarked: all.flatMap((each) => each.unmarked) };
}

/** The scratch consumer project's tsconfig: as strict as a demanding user's. */
export const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    esModuleInterop: true,
    isolatedModules: true,
    skipLibCheck: false,
    noEmit: true,
    types: ["node", "jest"],
  },
  include: ["*.ts"],
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Links of the docs to a page or a heading of this repository that is not there. */
export function brokenLinks(root: string): string[] {
  const broken: string[] = [];
  for (const page of docPages(root)) {
    const markdown = readFileSync(join(root, page), "utf8").replace(/```[\s\S]*?```/g, "");
    for (const [, target = ""] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      const [path = "", anchor] = target.split("#");
      const file = path === "" ? join(root, page) : join(root, dirname(page), path);
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        broken.push(`${page}: ${target}`);
        continue;
      }
      if (anchor === undefined) continue;
      const anchors = [...text.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading = ""]) => anchorOf(heading));
      if (!anchors.includes(anchor)) broken.push(`${page}: ${target}`);
    }
  }
  return broken;
}
