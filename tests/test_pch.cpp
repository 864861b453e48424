// The translation unit that compiles the shared precompiled headers of the test suites.
