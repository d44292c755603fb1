# SentencePiece::sentencepiece: the C++ sentencepiece library and its trainer (the demo model trains its
# tokenizer in-process). Found by plain find_path/find_library rather than pkg-config so that a prefix
# given in CMAKE_PREFIX_PATH works on machines without pkg-config (scripts/gpu-deps makes such a prefix
# for the lent GPU machines, where nothing can be installed).
find_path(SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h)
find_library(SENTENCEPIECE_LIBRARY sentencepiece)
find_library(SENTENCEPIECE_TRAIN_LIBRARY sentencepiece_train)
if(NOT SENTENCEPIECE_INCLUDE_DIR OR NOT SENTENCEPIECE_LIBRARY OR NOT SENTENCEPIECE_TRAIN_LIBRARY)
  message(FATAL_ERROR "sentencepiece not found (header ${SENTENCEPIECE_INCLUDE_DIR}, library ${SENTENCEPIECE_LIBRARY}, "
                      "trainer ${SENTENCEPIECE_TRAIN_LIBRARY}): install libsentencepiece-dev (scripts/setup-deps) "
                      "or put a prefix that has it in CMAKE_PREFIX_PATH (scripts/gpu-deps makes one)")
endif()
add_library(SentencePiece::sentencepiece INTERFACE IMPORTED)
set_target_properties(SentencePiece::sentencepiece PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${SENTENCEPIECE_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${SENTENCEPIECE_LIBRARY};${SENTENCEPIECE_TRAIN_LIBRARY}")
