fn main() {
    // Rebuild when a catalog migration changes: they are embedded with sqlx::migrate!.
    println!("cargo:rerun-if-changed=src/runtime/catalog/migrations");
    // Tesseract's calls to leptonica's pixWriteMem bind to sohoa's own
    // (src/ocr/line_images.rs): keep it in every linked program and export it.
    println!("cargo:rustc-link-arg=-Wl,-u,pixWriteMem");
    println!("cargo:rustc-link-arg=-Wl,--export-dynamic-symbol=pixWriteMem");
}
