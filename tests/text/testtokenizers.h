// Shared helpers for the text tests: locate the real tokenizer models in ../shared and check
// their sha256 so a wrong or truncated file fails loudly instead of producing odd ids.
#pragma once

#include <QCryptographicHash>
#include <QFile>
#include <QString>

#include <string>

#include "llava/tokenizer.h"

namespace llavatest {

struct TokenizerModelFile {
    const char* file;
    const char* sha256;
};

inline constexpr TokenizerModelFile kMistral{"mistral-7b-v0.1.model",
                                             "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055"};
inline constexpr TokenizerModelFile kLlama2{"llama-2.model",
                                            "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347"};
inline constexpr TokenizerModelFile kYi{"yi-34b.model",
                                        "386c49cf943d71aa110361135338c50e38beeff0a66593480421f37b319e1a39"};

inline QString tokenizerPath(const TokenizerModelFile& model) {
    return QStringLiteral(LLAVA_SHARED_DIR "/assets/tokenizers/") + QString::fromLatin1(model.file);
}

// Empty string when the file matches; otherwise what went wrong.
inline QString checkSha256(const TokenizerModelFile& model) {
    QFile file(tokenizerPath(model));
    if (!file.open(QIODevice::ReadOnly)) return QStringLiteral("cannot open ") + file.fileName();
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file)) return QStringLiteral("cannot read ") + file.fileName();
    const QString actual = QString::fromLatin1(hash.result().toHex());
    if (actual != QLatin1String(model.sha256))
        return file.fileName() + QStringLiteral(": sha256 ") + actual + QStringLiteral(" != expected ") +
               QLatin1String(model.sha256);
    return {};
}

// Loads after verifying the hash; QVERIFY-friendly: returns an error Result on mismatch.
inline llava::Result<llava::Tokenizer> loadVerified(const TokenizerModelFile& model) {
    const QString problem = checkSha256(model);
    if (!problem.isEmpty()) return llava::makeError(llava::ErrorCode::ParseError, problem.toStdString());
    return llava::Tokenizer::loadFile(tokenizerPath(model).toStdString());
}

}  // namespace llavatest
