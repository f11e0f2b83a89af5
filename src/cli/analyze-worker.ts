/** Entry of the worker thread `vigil analyze` runs its detectors on (see judgeWorkerMain). */
import { judgeWorkerMain } from './analyze.js';

judgeWorkerMain();
