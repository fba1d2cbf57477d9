// Runs firmware test modules (or the figures benchmark) under real MicroPython:
// the WebAssembly port from npm, in Node. The repository's firmware/, the test
// modules and the shared vectors are copied into the VM's filesystem under
// /repo; the tests inject fake `machine`, `network` and `socket` modules (fake_*.py).
//
//   node run.mjs [test_fw_x ...]      run test modules (default: every test_fw_*.py)
//   node run.mjs --bench              print the firmware figures as JSON
//
// Exit status 0 only if every test passed. The last line is "N passed, N failed".
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..", "..");
const args = process.argv.slice(2);
const bench = args.includes("--bench");
const heapArg = args.find((a) => a.startsWith("--heap="));
const heapsize = heapArg ? parseInt(heapArg.slice(7), 10) : 4 * 1024 * 1024;

let out = "";
const mp = await loadMicroPython({
  heapsize,
  stdout: (line) => { out += line + "\n"; process.stdout.write(line + "\n"); },
  stderr: (line) => { process.stderr.write(line + "\n"); },
});

function mkdirs(vmPath) {
  let cur = "";
  for (const part of vmPath.split("/").filter(Boolean)) {
    cur += "/" + part;
    try { mp.FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}

function copyTree(hostDir, vmDir, accept) {
  mkdirs(vmDir);
  for (const name of fs.readdirSync(hostDir)) {
    const host = path.join(hostDir, name);
    const st = fs.statSync(host);
    if (st.isDirectory()) {
      if (name === "node_modules" || name === "__pycache__" || name.startsWith(".")) continue;
      copyTree(host, vmDir + "/" + name, accept);
    } else if (accept(name)) {
      mp.FS.writeFile(vmDir + "/" + name, fs.readFileSync(host));
    }
  }
}

copyTree(path.join(repo, "firmware"), "/repo/firmware", (n) => n.endsWith(".py") || n.endsWith(".json"));
copyTree(path.join(repo, "tests", "firmware"), "/repo/tests/firmware", (n) => n.endsWith(".py"));
copyTree(path.join(repo, "tests", "vectors"), "/repo/tests/vectors", (n) => n.endsWith(".json"));
mkdirs("/tmp");

let modules = args.filter((a) => !a.startsWith("--"));
if (!bench && modules.length === 0) {
  modules = fs.readdirSync(path.join(repo, "tests", "firmware"))
    .filter((n) => /^test_fw_.*\.py$/.test(n)).sort().map((n) => n.slice(0, -3));
}

const prelude = `
import sys

sys.path.insert(0, "/repo/firmware")
sys.path.insert(0, "/repo/tests/firmware")
`;

if (bench) {
  mp.runPython(prelude + "import figures");
  for (const [stage, mark] of [["setup", "base"], ["import", "imported"], ["start", "started"], ["rest", null]]) {
    mp.runPython(`figures.stage_${stage}()`);
    if (mark) mp.runPython(`figures.mark("${mark}")`);  // a separate call: see figures.py
  }
  mp.runPython("figures.report()");
  process.exit(out.includes("FIGURES ") ? 0 : 1);
}

mp.runPython(prelude + `
import gc, time
_passed = 0
_failed = []
for _mod in ${JSON.stringify(modules)}:
    try:
        _m = __import__(_mod)
    except Exception as _e:
        _failed.append(_mod)
        print("ERROR importing", _mod)
        sys.print_exception(_e)
        continue
    for _name in sorted(dir(_m)):
        if not _name.startswith("test_"):
            continue
        _f = getattr(_m, _name)
        if not callable(_f):
            continue
        _t0 = time.ticks_ms()
        try:
            _f()
            _passed += 1
            print("PASS %s.%s (%d ms)" % (_mod, _name, time.ticks_diff(time.ticks_ms(), _t0)))
        except Exception as _e:
            _failed.append(_mod + "." + _name)
            print("FAIL %s.%s" % (_mod, _name))
            sys.print_exception(_e)
        gc.collect()
print("micropython %s: %d passed, %d failed" % (".".join(str(x) for x in sys.implementation.version[:3]), _passed, len(_failed)))
`);
const m = out.match(/(\d+) passed, (\d+) failed\s*$/);
process.exit(m && m[2] === "0" && parseInt(m[1], 10) > 0 ? 0 : 1);
