// Validates ASL definitions with asl-validator (npm). Reads a JSON array of
// {"name", "definition"} objects on stdin, prints {"name": [errors…]} for
// the invalid ones. Used by bpmn2asl's Go tests.
const path = require("path");
const root = process.argv[2];
const validator = require(path.join(root, "node_modules", "asl-validator"));
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = {};
  for (const { name, definition } of JSON.parse(input)) {
    const { isValid, errors } = validator(definition, { checkArn: true, checkPaths: true });
    if (!isValid) out[name] = errors.map((e) => e["Error code"] + ": " + e.Message + (e.path ? " at " + e.path : ""));
  }
  process.stdout.write(JSON.stringify(out));
});
