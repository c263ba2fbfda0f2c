// Threads: the worker pool (pool.ts) and the parallel plans ops state their work in (plan.ts).
export {
  setThreads, getThreads, threadsInfo, startThreads, shutdown, availableCores, tuneThreads, stepEnded, threadsFor, plannedThreads, Job,
  type ThreadsInfo, type KernelName,
} from './pool.js';
export { splitCall, splitReduceSum, splitGatherRows, batchSplits, ELEMENTWISE_COST, GATHER_COST, type SplitCall } from './split.js';
export { runPlan, parallelGemm, WORKSPACE, Ref, type Arg as PlanArg, type PlanSpec, type PlanArgs, type Step, type SumSpec } from './plan.js';
