export default function Home() {
  return <main><h1>Acme Retail</h1><p>Everything for your home, delivered tomorrow.</p></main>;
}
