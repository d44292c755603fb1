// Where the app looks for models, shared by the CLI (`models`) and the GUI library dialog: the Hugging Face
// hub cache (from the environment, as huggingface_hub resolves it), the app's own models folder
// (~/.local/share/llava-insight/models), and the GUI's recent model folders (QSettings "model/recent" of
// LlavaInsight/llava-insight).
#pragma once

#include <QString>
#include <QStringList>

#include "llava/modellibrary.h"

namespace hub {

QString appModelsDir();
QStringList recentModelFolders();
llava::LibraryLocations defaultLibraryLocations(const QString& hubCacheOverride = {});

}  // namespace hub
