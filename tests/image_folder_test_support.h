#pragma once

// Image folders made from real data for the suites that read them: ../shared/data/digits.csv (8x8
// pixels of 0..16, the digit last) written as one PNG per sample in a folder per digit.

#include <stb_image_write.h>

#include <QDir>
#include <QFile>
#include <QString>
#include <QStringList>
#include <QTextStream>

#include <array>
#include <vector>

namespace tunelab::test {

// The first `perClass` samples of each digit in `classes` (all ten when empty), as 8x8 gray PNGs
// (`channels` 1) or RGB ones (3, the gray level in each channel), in `folder`/<digit>/<n>.png.
// Returns how many images it wrote, 0 when digits.csv cannot be read.
inline int writeDigitsImageFolder(const QString& folder, int perClass, int channels = 1,
                                  const QList<int>& classes = {}) {
    QFile csv(QStringLiteral(TUNELAB_SHARED_DATA_DIR "/digits.csv"));
    if (!csv.open(QIODevice::ReadOnly | QIODevice::Text))
        return 0;
    QTextStream in(&csv);
    in.readLine(); // header
    std::array<int, 10> written{};
    int total = 0;
    while (!in.atEnd()) {
        const QStringList cells = in.readLine().split(',');
        if (cells.size() != 65)
            continue;
        const int digit = cells.last().toInt();
        if ((!classes.isEmpty() && !classes.contains(digit)) || written[size_t(digit)] >= perClass)
            continue;
        std::vector<unsigned char> pixels;
        for (int i = 0; i < 64; ++i)
            for (int c = 0; c < channels; ++c)
                pixels.push_back(static_cast<unsigned char>(cells[i].toInt() * 255 / 16));
        const QString classFolder = folder + "/" + QString::number(digit);
        QDir().mkpath(classFolder);
        const QString file = classFolder + QString("/%1.png").arg(written[size_t(digit)], 4, 10, QChar('0'));
        if (!stbi_write_png(file.toUtf8().constData(), 8, 8, channels, pixels.data(), 8 * channels))
            return 0;
        ++written[size_t(digit)];
        ++total;
    }
    return total;
}

} // namespace tunelab::test
