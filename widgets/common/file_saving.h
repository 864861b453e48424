#pragma once

// Every file the windows write (exports, saved specs, studies, spaces, pictures) goes through the
// engine's writeFileAtomically: a full disk leaves the previous file as it was and no half-written
// file behind, and the error names the file and the reason.

#include <QByteArray>
#include <QString>

class QImage;

namespace tunelab {

// Writes `bytes` to `path`; returns an empty string, or the error ("out.csv: could not write: No
// space left on device").
QString saveFileBytes(const QString& path, const QByteArray& bytes);
// The image as PNG, encoded in memory and then written as above.
QString saveImagePng(const QString& path, const QImage& image);
// The same for callers with an error out-parameter: true when saved, else `error` (when given) says
// why.
bool saveFileBytes(const QString& path, const QByteArray& bytes, QString* error);
bool saveImagePng(const QString& path, const QImage& image, QString* error);

} // namespace tunelab
