# Resources embedded into llava_app (a static library: the target-based qt_add_resources keeps them
# linked into every executable that uses it, tests included):
#   :/icons/*.svg             app icon + action icons (24 px line style, mid-grey strokes for light and dark)
#   :/i18n/llava_insight_*.qm compiled translations (qt_add_translations runs lrelease at build time)
set(LLAVA_RESOURCES_DIR ${CMAKE_CURRENT_LIST_DIR})
set(LLAVA_TRANSLATIONS_DIR ${CMAKE_CURRENT_LIST_DIR}/../translations)
set(LLAVA_TS_FILES ${LLAVA_TRANSLATIONS_DIR}/llava_insight_zh_CN.ts)

function(llava_add_app_resources target)
  set(icons llava-insight attach copy delete edit export inspector model-folder new-chat open-image
            regenerate search send settings stop)
  list(TRANSFORM icons PREPEND ${LLAVA_RESOURCES_DIR}/icons/)
  list(TRANSFORM icons APPEND .svg)
  qt_add_resources(${target} llava_icons PREFIX /icons BASE ${LLAVA_RESOURCES_DIR}/icons FILES ${icons})
  qt_add_translations(${target} TS_FILES ${LLAVA_TS_FILES} RESOURCE_PREFIX /i18n
                      LUPDATE_OPTIONS -locations none)
endfunction()
