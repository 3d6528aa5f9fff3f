package hello;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AppTest {
  @Test
  void greets() {
    assertTrue(App.greeting().contains("Hello from Java"));
  }
}
