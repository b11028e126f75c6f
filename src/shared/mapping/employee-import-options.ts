import { z } from 'zod';

/**
 * Choices for a legacy employee import where SAP's own sources disagree, set per drop in the
 * mapping file's `employeeImport` object. docs/employee-import.md "Options" explains each default.
 */
export const employeeImportOptionsSchema = z
  .object({
    /** 700/710/720/750/760 `EXP`: `report` (SAP's mapping page since July 2024, every UPS example) or `expense` (the UPS schema table). */
    expenseApprovalType: z.enum(['report', 'expense']).default('report'),
    /** 305 #86 / 310 #14 (Travel Wizard User / Travel User): the `Travel` entitlement, the `TRAVEL_USER` role, or both. */
    travelUser: z.enum(['entitlement', 'role', 'both']).default('entitlement'),
    /** Rule class given to a person this drop creates whose 350 names none (UPS requires one per travel user). */
    defaultRuleClass: z.string().min(1).max(60).optional(),
  })
  .strict();

export type EmployeeImportOptions = z.output<typeof employeeImportOptionsSchema>;
