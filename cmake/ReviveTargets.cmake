# Helpers shared by every REVIVE target: source collection, warnings, the
# precompiled LibTorch header.

# Collect the .cpp (and, with CUDA, .cu) files under DIR. Files in a `cuda/`
# folder need the CUDA toolkit and are skipped without it.
function(revive_collect_sources out dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  if(REVIVE_HAVE_CUDA)
    file(GLOB_RECURSE cu_srcs CONFIGURE_DEPENDS ${dir}/*.cu)
    list(APPEND srcs ${cu_srcs})
  else()
    list(FILTER srcs EXCLUDE REGEX "/cuda/")
  endif()
  if(NOT REVIVE_HAVE_NCCL)
    list(FILTER srcs EXCLUDE REGEX "nccl")
  endif()
  if(NOT REVIVE_HAVE_LAPACK)
    list(FILTER srcs EXCLUDE REGEX "/lapack/")
  endif()
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()

function(revive_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  if(REVIVE_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
endfunction()

if(REVIVE_ASAN)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# One precompiled LibTorch header, built once and reused by every target:
# LibTorch headers dominate compile time otherwise.
function(revive_use_pch target)
  if(NOT REVIVE_PCH)
    return()
  endif()
  if(NOT TARGET revive_pch)
    add_library(revive_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch.cpp)
    target_link_libraries(revive_pch PRIVATE ${TORCH_LIBRARIES})
    revive_warnings(revive_pch)
    target_precompile_headers(revive_pch PRIVATE <torch/torch.h>)
  endif()
  target_precompile_headers(${target} REUSE_FROM revive_pch)
endfunction()
