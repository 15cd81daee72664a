/* types_end.h — undo types_begin.h. */
#undef T
#undef S
#undef EXP
#undef LOG
#undef LOG1P
#undef EXPM1
#undef TANH
#undef ERF
#undef ERFC
#undef PHI
#undef SQRT
#undef FABS
#undef POW
#undef NN_F64
