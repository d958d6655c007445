/** where runs come from; defined in tekton/ so that kube/ can implement it */
export type { RunObservation, RunSource } from '../tekton/index.ts';
export { CaptureGate, type CaptureGateOptions } from './capture-gate.ts';
export { Controller, type ControllerOptions } from './controller.ts';
export { cpuBusySampler } from './machine-cpu.ts';
