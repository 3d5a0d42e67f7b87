<?php

namespace Herald\Laravel;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Support\ServiceProvider;

/**
 * Registers the `herald` broadcast driver: a connection in
 * config/broadcasting.php with 'driver' => 'herald' gets a HeraldBroadcaster.
 */
final class HeraldBroadcastServiceProvider extends ServiceProvider
{
    public function boot(): void
    {
        // afterResolving as well: extend() must reach the manager whether it
        // was built before this provider booted or is built later.
        $register = static function (BroadcastManager $manager): void {
            $manager->extend('herald', static fn ($app, array $config) => new HeraldBroadcaster($config));
        };
        if ($this->app->resolved(BroadcastManager::class)) {
            $register($this->app->make(BroadcastManager::class));
        } else {
            $this->app->afterResolving(BroadcastManager::class, $register);
        }
    }
}
