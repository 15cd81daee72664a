/*
 * runtime/template.h — csrc's one templating mechanism.
 *
 * C has no templates, and a kernel family exists for float and double, and
 * its row loops for each ISA. fastdl writes such code once as a *body*: a
 * header (`<family>_impl.h`, `rows.h`, `act_rows.h`, `optim_loops.h`...)
 * over the element type T, included once per type between
 * runtime/types_begin.h and runtime/types_end.h (which set T, its suffix S
 * and the matching math functions), or once per ISA by a one-line
 * `<family>_<isa>.c` that sets FDL_SFX and is compiled with that ISA's flags.
 * Inside a body, FN(name) names a static helper for the current type
 * (name_f32 / name_f64) and FDL_NAME(name) one for the current ISA.
 *
 * Bodies define only static functions and per-ISA tables. Every public
 * function is written out by name in its family's .c file (grep finds
 * fdl_relu_forward_f32 where it is defined): it checks its arguments and
 * calls the body's function for its type. No backslash-continued function
 * macros define kernels.
 */
#ifndef FDL_TEMPLATE_H
#define FDL_TEMPLATE_H

#define FDL_CAT_(a, b) a##_##b
#define FDL_CAT(a, b) FDL_CAT_(a, b)
/* the current type's helper: FN(relu_forward) -> relu_forward_f32 (S = f32) */
#define FN(name) FDL_CAT(name, S)
/* the current ISA's symbol: FDL_NAME(fdl_rows) -> fdl_rows_avx2 (FDL_SFX = avx2) */
#define FDL_NAME(name) FDL_CAT(name, FDL_SFX)

#endif
