#!/bin/sh
# Writes the pictures of docs/user-guide.md with the application's own --screenshot option,
# from the real datasets in ../shared/data. Run from the repository root after building;
# uses xvfb-run when there is no display.
set -eu
app=${CELLWRIGHT:-build/app/cellwright}
cli=${CELLWRIGHT_CLI:-build/app/cellwright-cli}
data=../shared/data/pbmc68k_reduced_700.h5ad
out=docs/images
run() { if [ -n "${DISPLAY:-}" ]; then "$@"; else xvfb-run -a -s "-screen 0 1600x1200x24" "$@"; fi; }
mkdir -p "$out"
run "$app" --open "$data" --analyse --view umap --color-by cell_type --screenshot "$out/main-window.png"
run "$app" --open "$data" --analyse --view umap --color-by leiden --screenshot "$out/embedding-leiden.png" --view-only
run "$app" --open "$data" --analyse --view umap --color-by CST3 --screenshot "$out/embedding-gene.png" --view-only
run "$app" --open "$data" --analyse --view paga --screenshot "$out/paga.png" --view-only
run "$app" --open ../shared/data/pbmc3k_seurat_2638.h5ad --view preprocess --screenshot "$out/preprocess.png"
run "$app" --open "$data" --analyse --view de --color-by leiden --screenshot "$out/de-dotplot.png"
run "$app" --open "$data" --analyse --view violin --color-by leiden --screenshot "$out/de-violin.png" --view-only
run "$app" --open "$data" --analyse --view training --train mlp --epochs 20 --screenshot "$out/training.png"
demo=$(mktemp -d)
"$cli" demo -o "$demo/run" > /dev/null
run "$app" --run "$demo/run" --view confusion --screenshot "$out/confusion.png" --view-only
"$cli" finetune --model logreg --data "$data" --label cell_type -o "$demo/roc" > /dev/null
run "$app" --open "$data" --run "$demo/roc" --view roc --screenshot "$out/roc.png" --view-only
rm -rf "$demo"
# Keep the repository small: 8-bit palettes where optipng is available.
command -v optipng > /dev/null && optipng -quiet -o2 "$out"/*.png || true
