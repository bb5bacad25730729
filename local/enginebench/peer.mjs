// The peer side of enginebench: runs aws-local-stepfunctions in this one
// node process, so process start-up stays out of the numbers. It reads one
// JSON job per line on stdin and answers one JSON line on stdout:
//   job    {definition, input, concurrency, warmupMs, durationMs, runs?}
//   answer {runs, elapsedMs, cpuMs, output} or {error}
// The measuring loop is the one ours uses (ours.go): C workers start an
// execution, await it and start the next until the deadline; runs finished
// after the warm-up are counted over the time until the last worker is done.
// With runs set, the counted phase is exactly that many executions.
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';

// aws-local-stepfunctions 3.0.0 needs node >= 22 for this one ES2024
// function; node 20 gets the standard definition.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const { StateMachine } = await import(process.argv[2]);

// The task10 Lambdas, the same as Functions() in workload.go.
const functions = {
  validate: (p) => ({ ok: (p.form?.taxNumber ?? '').length === 10 && (p.form?.name ?? '') !== '' }),
  registry: (p) => ({ record: { taxNumber: p.taxNumber, registered: '2001-02-03', office: 'Kyiv' } }),
  decide: (p) => ({ decision: p.record?.taxNumber ? 'approve' : 'reject' }),
  sign: (p) => ({ signature: 'sig-' + p.applicationId }),
  notify: (p) => ({ sent: p.status === 'approved' }),
};

// headers builds the SdkHttpMetadata headers of a lambda:invoke response,
// as the Go engine's LambdaInvokeResponse does.
function headers(all, length) {
  const one = (v) => (all ? [v] : v);
  return {
    Connection: one('keep-alive'),
    'Content-Length': one(String(length)),
    'Content-Type': one('application/json'),
    Date: 'date',
    'X-Amz-Executed-Version': one('$LATEST'),
    'x-amzn-Remapped-Content-Length': one('0'),
    'x-amzn-RequestId': 'x-amzn-RequestId',
    'X-Amzn-Trace-Id': 'X-Amzn-Trace-Id',
  };
}

// invoke is the local handler of every lambda:invoke Task: the payload goes
// through JSON both ways, as it does to a Lambda (and in lambdarun), and the
// result is wrapped in the optimised integration's envelope.
async function invoke(input) {
  const name = String(input.FunctionName).split(':').pop();
  const fn = functions[name];
  if (!fn) throw new Error('no function ' + name);
  const out = JSON.stringify(fn(JSON.parse(JSON.stringify(input.Payload))));
  const payload = JSON.parse(out);
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: { AllHttpHeaders: headers(true, out.length), HttpHeaders: headers(false, out.length), HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: 'RequestId' },
    StatusCode: 200,
  };
}

async function measure(job) {
  const definition = JSON.parse(job.definition);
  const sm = new StateMachine(definition);
  const handlers = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') handlers[name] = invoke;
  }
  const options = { overrides: { taskResourceLocalHandlers: handlers } };
  let output;
  const once = async () => {
    const result = await sm.run(JSON.parse(job.input), options).result;
    if (output === undefined) output = result;
  };
  const phase = async (ms, fixed) => {
    const deadline = performance.now() + ms;
    let runs = 0;
    let claimed = 0;
    const worker = async () => {
      for (;;) {
        if (fixed > 0 && ++claimed > fixed) return;
        await once();
        runs++;
        if (!(fixed > 0) && performance.now() >= deadline) return;
      }
    };
    const start = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: job.concurrency }, worker));
    const used = process.cpuUsage(cpu);
    return { runs, elapsedMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
  };
  if (job.warmupMs > 0) await phase(job.warmupMs, 0);
  const { runs, elapsedMs, cpuMs } = await phase(job.durationMs, job.runs ?? 0);
  return { runs, elapsedMs, cpuMs, output };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  let answer;
  try {
    answer = await measure(JSON.parse(line));
  } catch (err) {
    answer = { error: String(err?.stack ?? err) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
