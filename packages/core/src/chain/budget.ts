/**
 * @module chain/budget — the work a validation may do (candidates, signatures, name comparisons), so
 * hostile input cannot make it spin: every unit is charged before it is spent.
 */
import {
  DEFAULT_VALIDATION_LIMITS,
  type ValidationLimits,
  type WorkBudget,
  type WorkDone,
} from './types.js';

/** The default work budget of a validation. */
export const DEFAULT_BUDGET: WorkBudget = Object.freeze({
  maxCandidates: 1000,
  maxSignatureChecks: 100,
  maxNameComparisons: 1 << 20,
  maxNameWork: 1 << 18,
});

/** A budget ran out mid-search; `validate` answers `ERR_CHAIN_BUDGET` with its message. */
export class BudgetExceeded extends Error {}

/** The budget from defaults and a caller's partial one; RangeError for a bad number. */
export function budgetOf(partial: Partial<WorkBudget> | undefined): WorkBudget {
  const budget: WorkBudget = { ...DEFAULT_BUDGET, ...partial };
  for (const [k, v] of Object.entries(budget))
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`budget.${k} must be a non-negative integer, received ${v}`);
  return budget;
}

/** The size limits from defaults and a caller's partial ones; RangeError for a bad number. */
export function limitsOf(partial: Partial<ValidationLimits> | undefined): ValidationLimits {
  const limits: ValidationLimits = { ...DEFAULT_VALIDATION_LIMITS, ...partial };
  for (const [k, v] of Object.entries(limits))
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`limits.${k} must be a positive integer, received ${v}`);
  return limits;
}

/** Charges one candidate issuer examined. */
export function spendCandidate(work: WorkDone, budget: WorkBudget): void {
  if (work.candidates >= budget.maxCandidates)
    throw new BudgetExceeded(`more than ${budget.maxCandidates} candidate issuers examined`);
  work.candidates++;
}

/** Charges one signature verification. */
export function spendSignature(work: WorkDone, budget: WorkBudget): void {
  if (work.signatureChecks >= budget.maxSignatureChecks)
    throw new BudgetExceeded(`more than ${budget.maxSignatureChecks} signature checks`);
  work.signatureChecks++;
}

/** Charges name-constraint comparisons and work units, before any is made. */
export function spendNameWork(
  work: WorkDone,
  budget: WorkBudget,
  comparisons: number,
  units: number,
): void {
  if (work.nameComparisons + comparisons > budget.maxNameComparisons)
    throw new BudgetExceeded(`more than ${budget.maxNameComparisons} name-constraint comparisons`);
  if (work.nameWork + units > budget.maxNameWork)
    throw new BudgetExceeded(`more than ${budget.maxNameWork} units of name-constraint work`);
  work.nameComparisons += comparisons;
  work.nameWork += units;
}
