import { gzipSync } from 'node:zlib';
import { dir, file, tar } from '../archive/tar-writer.js';

/** Small but real-shaped model archives of every type, built in the test. */
export const archives = {
  tfSavedModel: () =>
    tar(
      dir('export/'),
      dir('export/1/'),
      file('export/1/saved_model.pb', Buffer.from('\x08\x01saved model graph')),
      dir('export/1/variables/'),
      file('export/1/variables/variables.index', 'index'),
      file('export/1/variables/variables.data-00000-of-00001', Buffer.alloc(4096, 7)),
    ),
  tfH5: () => tar(file('model.h5', Buffer.concat([Buffer.from('\x89HDF\r\n\x1a\n'), Buffer.alloc(2048, 1)]))),
  sklearn: () => gzipSync(tar(file('model.pkl', Buffer.from('\x80\x04pickled estimator')), file('README', 'logistic regression'))),
  spark: () =>
    tar(
      dir('metadata/'),
      file('metadata/part-00000', '{"class":"org.apache.spark.ml.classification.LogisticRegressionModel"}'),
      dir('data/'),
      file('data/part-00000-abc.snappy.parquet', Buffer.from('PAR1....PAR1')),
    ),
  r: () => gzipSync(tar(file('model.rda', Buffer.from('RDX3\nrda payload')))),
  onnx: () => tar(file('model.onnx', Buffer.from('onnx graph bytes'))),
  /** A tf-typed archive without model.h5 or saved_model.pb. */
  tfMissingModel: () => tar(file('weights.bin', 'w')),
  /** A traversal attempt. */
  hostile: () => tar(file('saved_model.pb', 'ok'), file('../../etc/cron.d/evil', '* * * * * root id')),
};
