# LLAVA_SANITIZE=address,undefined adds the sanitizers to every target (CXX and linker).
if(LLAVA_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${LLAVA_SANITIZE}>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=all>)
  add_link_options(-fsanitize=${LLAVA_SANITIZE})
endif()
