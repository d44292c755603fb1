// See hubconfig.h.
#include "hubconfig.h"

#include <QFile>

namespace hub {
namespace {

QString envString(const llava::EnvLookup& env, const char* name) {
    const auto value = env(name);
    return value ? QString::fromStdString(*value).trimmed() : QString();
}

}  // namespace

HubConfig hubConfigFromEnvironment(const llava::EnvLookup& env) {
    HubConfig config;
    QString endpoint = envString(env, "HF_ENDPOINT");
    if (endpoint.isEmpty()) endpoint = QStringLiteral("https://huggingface.co");
    while (endpoint.endsWith(QLatin1Char('/'))) endpoint.chop(1);
    config.endpoint = QUrl(endpoint);
    config.cacheDir = QString::fromStdString(llava::hubCacheDir(env).string());

    for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
        config.token = envString(env, name);
        if (!config.token.isEmpty()) {
            config.tokenSource = QString::fromLatin1(name);
            return config;
        }
    }
    QString tokenPath = envString(env, "HF_TOKEN_PATH");
    if (tokenPath.isEmpty()) tokenPath = QString::fromStdString((llava::hfHomeDir(env) / "token").string());
    QFile file(tokenPath);
    if (file.open(QIODevice::ReadOnly)) {
        config.token = QString::fromUtf8(file.read(4096)).trimmed();
        if (!config.token.isEmpty()) config.tokenSource = tokenPath;
    }
    return config;
}

QStringList supportedRepositories() {
    return {QStringLiteral("llava-hf/llava-v1.6-mistral-7b-hf"), QStringLiteral("llava-hf/llava-v1.6-vicuna-7b-hf"),
            QStringLiteral("llava-hf/llava-v1.6-vicuna-13b-hf"), QStringLiteral("llava-hf/llava-v1.6-34b-hf"),
            QStringLiteral("liuhaotian/llava-v1.6-mistral-7b"),  QStringLiteral("liuhaotian/llava-v1.6-vicuna-7b"),
            QStringLiteral("liuhaotian/llava-v1.6-vicuna-13b"),  QStringLiteral("liuhaotian/llava-v1.6-34b")};
}

}  // namespace hub
