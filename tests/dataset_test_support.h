#pragma once

// Helpers shared by the dataset suites (tst_datasets, tst_dataset_files).

#include "data/dataset.h"

#include <QFile>
#include <QString>
#include <QtTest>

Q_DECLARE_METATYPE(tunelab::DataKind)
Q_DECLARE_METATYPE(tunelab::TaskKind)

namespace tunelab::test {

inline void writeFile(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(path));
}

} // namespace tunelab::test
