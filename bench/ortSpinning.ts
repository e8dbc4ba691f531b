/**
 * An experiment knob, not a setting of the engine: `BENCH_ORT_SPINNING=0`
 * makes every onnxruntime session this process opens use passive waits
 * (`session.intra_op.allow_spinning = 0`), by wrapping
 * `InferenceSession.create` before the engine opens any graph.
 *
 * Why it exists: onnxruntime's intra-op threads spin while they wait for work.
 * On 2 cores shared with another busy process (this project's machines, while
 * a training job runs) two spinning threads fight it for the cores, and the
 * engine's 2-thread figures come out several times slower than 1 thread. The
 * engine does not expose the option (src/inference/backend/ort.ts, the one
 * module that opens sessions), so the benchmark measures the engine as it
 * ships and, with this knob, what passive waits would give: the figures to
 * decide that change by. This is the only other file that imports
 * onnxruntime-node, for that reason alone. The PyTorch side gets the same
 * treatment through OMP_WAIT_POLICY=PASSIVE (bench/torch.ts), always.
 */
import * as ort from 'onnxruntime-node';

/** True when this process runs with passive onnxruntime waits. */
export const passiveWaits = process.env.BENCH_ORT_SPINNING === '0';

if (passiveWaits) {
  const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (path: string, options?: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;
  const patched = (path: string, options: ort.InferenceSession.SessionOptions = {}) =>
    create(path, { ...options, extra: { ...(options.extra as Record<string, unknown> | undefined), session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } });
  (ort.InferenceSession as unknown as { create: typeof patched }).create = patched;
}
