/**
 * `npm test` runs the suite twice: with the default backend (native where its addon is built), then with the
 * TypeScript backend (CONVLAB_TEST_PASS=second). The run store, the queue, the dashboard and the views of a study
 * do the same on either backend (the numbers they carry come from the backend, which the rest of the suite checks),
 * so their tests run in the first pass only and say so in the second.
 */
export const firstPassOnly: string | false =
  process.env.CONVLAB_TEST_PASS === 'second'
    ? 'runs in the first pass only: the store, the queue, the dashboard and the study views work alike on every backend'
    : false;
