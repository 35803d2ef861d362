from mlsec_lint.entry import main

main()
