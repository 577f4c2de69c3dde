// SKETCH (not compiled in CI: no Android SDK on the CI machines). Where an
// Android app starts the client and feeds it the process lifecycle.
package dev.spoor.example

import android.app.Application
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import java.io.File

class ShopApplication : Application() {
    lateinit var analytics: ShopAnalytics
        private set

    override fun onCreate() {
        super.onCreate()
        analytics = ShopAnalytics(
            dataDir = File(filesDir, "spoor").path,
            endpoint = "https://events.example.com",
            writeKey = BuildConfig.SPOOR_WRITE_KEY,
            appVersion = BuildConfig.VERSION_NAME,
        )
        ProcessLifecycleOwner.get().lifecycle.addObserver(object : DefaultLifecycleObserver {
            override fun onStart(owner: LifecycleOwner) = analytics.appForegrounded()
            override fun onStop(owner: LifecycleOwner) = analytics.appBackgrounded()
        })
    }
}
