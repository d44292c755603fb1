// See librarylocations.h.
#include "librarylocations.h"

#include <QSettings>
#include <QStandardPaths>

namespace hub {

QString appModelsDir() {
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/llava-insight/models");
}

QStringList recentModelFolders() {
    const QSettings settings(QStringLiteral("LlavaInsight"), QStringLiteral("llava-insight"));
    return settings.value(QStringLiteral("model/recent")).toStringList();
}

llava::LibraryLocations defaultLibraryLocations(const QString& hubCacheOverride) {
    llava::LibraryLocations where;
    where.hubCaches.push_back(hubCacheOverride.isEmpty() ? llava::hubCacheDir(llava::processEnvironment())
                                                         : std::filesystem::path(hubCacheOverride.toStdString()));
    where.appFolders.push_back(appModelsDir().toStdString());
    for (const QString& dir : recentModelFolders()) where.recent.push_back(dir.toStdString());
    return where;
}

}  // namespace hub
