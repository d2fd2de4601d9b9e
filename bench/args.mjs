// Command-line flags of the bench scripts: `--name value` pairs only. An
// unknown flag, a flag without its value or a stray word is an error that
// names the flags there are (a typo such as `--rep 5` must not silently run
// the defaults for 15 minutes). Such a mistake prints its message and exits 2.

function die(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

export function flags(argv, known, usage) {
  const given = new Map();
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    const value = argv[i + 1];
    const key = name?.startsWith('--') ? name.slice(2) : undefined;
    if (key === undefined || !known.includes(key)) {
      die(`unknown argument ${JSON.stringify(name)}; the flags are ${known.map((k) => `--${k}`).join(', ')}\nusage: ${usage}`);
    }
    if (value === undefined) die(`--${key} needs a value\nusage: ${usage}`);
    given.set(key, value);
  }
  return (name, fallback) => (given.has(name) ? given.get(name) : fallback);
}

/** Every item of a comma-separated list must be one of `allowed`. */
export function checkList(what, items, allowed) {
  const bad = items.filter((x) => !allowed.includes(x));
  if (bad.length > 0) die(`unknown ${what} ${bad.map((b) => JSON.stringify(b)).join(', ')}; known: ${allowed.join(', ')}`);
  return items;
}

/** A flag's value as a positive integer, or an error that says which flag. */
export function positive(name, value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) die(`--${name} must be a positive integer, not ${JSON.stringify(String(value))}`);
  return n;
}
