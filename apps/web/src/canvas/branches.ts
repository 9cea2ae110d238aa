/**
 * The branch an edge without a `sourceHandle` leaves from: @postpath/journey's `DEFAULT_BRANCH`,
 * kept here too so the canvas's first-draw modules need not import the journey language
 * (language.ts; `steps.test.ts` checks the two are the same).
 */
export const DEFAULT_BRANCH = "next";
