import { cachedPython } from '../notebook/python-env.js';

/** The Python of a cached virtualenv with MLflow and scikit-learn (test/exchange/mlflow-requirements.txt). */
export function mlflowPython(log: (m: string) => void = () => undefined): Promise<string> {
  return cachedPython({ name: 'exchange-mlflow', requirements: new URL('./mlflow-requirements.txt', import.meta.url).pathname, what: 'MLflow, scikit-learn' }, log);
}
