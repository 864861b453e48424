#include "common/file_saving.h"

#include "common/atomic_file.h"

#include <QBuffer>
#include <QFile>
#include <QImage>

#include <string_view>

namespace tunelab {

QString saveFileBytes(const QString& path, const QByteArray& bytes) {
    const auto written = writeFileAtomically(QFile::encodeName(path).toStdString(),
                                             std::string_view(bytes.constData(), size_t(bytes.size())));
    return written.ok() ? QString() : QString::fromStdString(written.error());
}

QString saveImagePng(const QString& path, const QImage& image) {
    QByteArray png;
    QBuffer buffer(&png);
    if (image.isNull() || !buffer.open(QIODevice::WriteOnly) || !image.save(&buffer, "PNG"))
        return QObject::tr("%1: could not encode the image as PNG").arg(path);
    return saveFileBytes(path, png);
}

namespace {

bool saved(const QString& problem, QString* error) {
    if (!problem.isEmpty() && error)
        *error = problem;
    return problem.isEmpty();
}

} // namespace

bool saveFileBytes(const QString& path, const QByteArray& bytes, QString* error) {
    return saved(saveFileBytes(path, bytes), error);
}

bool saveImagePng(const QString& path, const QImage& image, QString* error) {
    return saved(saveImagePng(path, image), error);
}

} // namespace tunelab
