struct App;

impl App {
    #[magpie::main]
    async fn run(&self) {}
}

fn main() {
    let _ = App;
}
