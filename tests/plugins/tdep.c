/* A tiny library in two builds: with tdep_new (TDEP_FULL) and without. */
int tdep_version(void);
int tdep_version(void)
{
    return 1;
}

#if defined(TDEP_FULL)
int tdep_new(void);
int tdep_new(void)
{
    return 42;
}
#endif
