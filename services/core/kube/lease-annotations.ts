/**
 * lease-annotations: the stage Lease protocol between the operator and a stage instance (see
 * README.md). Here, beside the elector that writes them, so the stages need no operator code;
 * operator/api/names.ts re-exports them.
 */
import { API_GROUP } from "../spec/index.ts";

/**
 * ANNOTATION_FENCING_EPOCH on a stage Lease: the fencing epoch of the current holder, incremented
 * on every acquisition.
 */
export const ANNOTATION_FENCING_EPOCH = `${API_GROUP}/fencing-epoch`;
/** ANNOTATION_KILL_SWITCH on a stage Lease: "engaged" while the operator asks the stage to halt. */
export const ANNOTATION_KILL_SWITCH = `${API_GROUP}/kill-switch`;
/** ANNOTATION_HALTED on a stage Lease: the epoch of the holder that has halted trading. */
export const ANNOTATION_HALTED = `${API_GROUP}/halted`;
